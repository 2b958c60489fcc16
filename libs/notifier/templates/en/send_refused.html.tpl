<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Your fax was not accepted</h2>
<p>Nothing was sent.</p>
<p><strong>Why:</strong> {{ERROR_TEXT}} <code>{{ERROR_CODE}}</code></p>
<p><strong>Subject:</strong> {{SUBJECT}}{{#HAS_REFERENCE}}<br><strong>Reference:</strong> {{REFERENCE}}{{/HAS_REFERENCE}}</p>
<p>If you think you should be allowed to send faxes, ask your fax administrator.</p>
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.</p>
</body></html>
