<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Fax from {{CALLER}}</h2>
<table style="border-collapse: collapse;">
<tr><th align="left" style="padding-right: 16px;">From</th><td>{{CALLER}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Remote station</th><td>{{REMOTE_STATION_ID}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">To number</th><td>{{CALLED}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Pages</th><td>{{PAGES}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Duration</th><td>{{DURATION}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Received</th><td>{{RECEIVED_AT}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Reference</th><td>{{REFERENCE}}</td></tr>
</table>
{{#HAS_ATTACHMENT}}<p>The fax is attached as {{FORMAT}} ({{ATTACHMENT_NAME}}).</p>{{/HAS_ATTACHMENT}}
{{#PDF_MISSING}}<p>The PDF of this fax could not be made ({{PDF_ERROR}}), so it is attached as TIFF.</p>{{/PDF_MISSING}}
{{#NO_ATTACHMENT}}<p>The fax is in your Faxbridge inbox.</p>{{/NO_ATTACHMENT}}
{{#HAS_THUMBNAIL}}<p><img src="cid:{{THUMBNAIL_CID}}" alt="First page of the fax" style="border: 1px solid #ccc; max-width: 100%;"></p>{{/HAS_THUMBNAIL}}
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.</p>
</body></html>
