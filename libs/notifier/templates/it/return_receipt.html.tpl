<!DOCTYPE html>
<html lang="it"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Il tuo fax è stato inviato</h2>
<table style="border-collapse: collapse;">
<tr><th align="left" style="padding-right: 16px;">A</th><td>{{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Oggetto</th><td>{{SUBJECT}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Pagine inviate</th><td>{{PAGES_SENT}} di {{PAGE_COUNT}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Riferimento</th><td>{{REFERENCE}}</td></tr>
</table>
<h3 style="font-size: 15px;">Tentativi</h3>
<ol>{{#ATTEMPTS}}<li>{{STARTED_AT}}: {{RESULT}}</li>{{/ATTEMPTS}}</ol>
{{#HAS_THUMBNAIL}}<p><img src="cid:{{THUMBNAIL_CID}}" alt="Prima pagina del fax" style="border: 1px solid #ccc; max-width: 100%;"></p>{{/HAS_THUMBNAIL}}
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.</p>
</body></html>
