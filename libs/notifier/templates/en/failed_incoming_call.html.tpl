<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">A fax call to {{CALLED}} brought no pages</h2>
<p><strong>From:</strong> {{CALLER}}<br><strong>When:</strong> {{RECEIVED_AT}}<br><strong>Why:</strong> <code>{{ERROR_CODE}}</code></p>
<p>The caller may try again. You get this notice because the fax administrator turned on notices of failed incoming calls.</p>
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.</p>
</body></html>
