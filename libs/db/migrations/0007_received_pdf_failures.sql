-- Received faxes whose PDF cannot be made. The converter decodes a received TIFF in its
-- sandbox; a TIFF that crashes, hangs or exhausts the decoder is recorded here with the
-- sandbox's code and sentence, so the sweep stops picking it up (the TIFF itself stays
-- available to the inbox and to mails).
ALTER TABLE received_faxes ADD COLUMN pdf_error_code text, ADD COLUMN pdf_error_detail text;
