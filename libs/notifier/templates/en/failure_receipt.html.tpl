<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">{{#PARTIAL}}Your fax was only partially sent{{/PARTIAL}}{{#FAILED}}Your fax could not be sent{{/FAILED}}</h2>
<p><strong>Why:</strong> {{ERROR_TEXT}} <code>{{ERROR_CODE}}</code></p>
<table style="border-collapse: collapse;">
<tr><th align="left" style="padding-right: 16px;">To</th><td>{{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Subject</th><td>{{SUBJECT}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Pages sent</th><td>{{PAGES_SENT}} of {{PAGE_COUNT}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Reference</th><td>{{REFERENCE}}</td></tr>
</table>
<h3 style="font-size: 15px;">Attempts</h3>
<ol>{{#ATTEMPTS}}<li>{{STARTED_AT}}: {{RESULT}}</li>{{/ATTEMPTS}}</ol>
{{#HAS_THUMBNAIL}}<p><img src="cid:{{THUMBNAIL_CID}}" alt="First page of the fax" style="border: 1px solid #ccc; max-width: 100%;"></p>{{/HAS_THUMBNAIL}}
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.</p>
</body></html>
