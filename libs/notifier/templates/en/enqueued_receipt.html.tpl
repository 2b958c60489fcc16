<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Your fax is in the outgoing queue</h2>
<table style="border-collapse: collapse;">
<tr><th align="left" style="padding-right: 16px;">To</th><td>{{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Subject</th><td>{{SUBJECT}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Pages</th><td>{{PAGE_COUNT}}</td></tr>
{{#SCHEDULED}}<tr><th align="left" style="padding-right: 16px;">Sent after</th><td>{{SCHEDULED_AT}}</td></tr>{{/SCHEDULED}}
<tr><th align="left" style="padding-right: 16px;">Reference</th><td>{{REFERENCE}}</td></tr>
</table>
<p>You will get another mail when it has been sent or has finally failed.</p>
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.</p>
</body></html>
