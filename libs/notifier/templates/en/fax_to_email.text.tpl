You received a fax on {{CALLED}}.

From:            {{CALLER}}
Remote station:  {{REMOTE_STATION_ID}}
To number:       {{CALLED}}
Pages:           {{PAGES}}
Duration:        {{DURATION}}
Received:        {{RECEIVED_AT}}
Reference:       {{REFERENCE}}
{{#HAS_ATTACHMENT}}
The fax is attached as {{FORMAT}} ({{ATTACHMENT_NAME}}).
{{/HAS_ATTACHMENT}}{{#PDF_MISSING}}
The PDF of this fax could not be made ({{PDF_ERROR}}), so it is attached as TIFF.
{{/PDF_MISSING}}{{#NO_ATTACHMENT}}
The fax is in your Faxbridge inbox.
{{/NO_ATTACHMENT}}
-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.
