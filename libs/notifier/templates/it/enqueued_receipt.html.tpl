<!DOCTYPE html>
<html lang="it"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Il tuo fax è nella coda di invio</h2>
<table style="border-collapse: collapse;">
<tr><th align="left" style="padding-right: 16px;">A</th><td>{{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Oggetto</th><td>{{SUBJECT}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Pagine</th><td>{{PAGE_COUNT}}</td></tr>
{{#SCHEDULED}}<tr><th align="left" style="padding-right: 16px;">Inviato dopo</th><td>{{SCHEDULED_AT}}</td></tr>{{/SCHEDULED}}
<tr><th align="left" style="padding-right: 16px;">Riferimento</th><td>{{REFERENCE}}</td></tr>
</table>
<p>Riceverai un altro messaggio quando sarà stato inviato o definitivamente non inviato.</p>
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.</p>
</body></html>
