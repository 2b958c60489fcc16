<!DOCTYPE html>
<html lang="it"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Fax da {{CALLER}}</h2>
<table style="border-collapse: collapse;">
<tr><th align="left" style="padding-right: 16px;">Da</th><td>{{CALLER}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Stazione remota</th><td>{{REMOTE_STATION_ID}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Al numero</th><td>{{CALLED}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Pagine</th><td>{{PAGES}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Durata</th><td>{{DURATION}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Ricevuto</th><td>{{RECEIVED_AT}}</td></tr>
<tr><th align="left" style="padding-right: 16px;">Riferimento</th><td>{{REFERENCE}}</td></tr>
</table>
{{#HAS_ATTACHMENT}}<p>Il fax è allegato in formato {{FORMAT}} ({{ATTACHMENT_NAME}}).</p>{{/HAS_ATTACHMENT}}
{{#PDF_MISSING}}<p>Non è stato possibile creare il PDF di questo fax ({{PDF_ERROR}}): è allegato in formato TIFF.</p>{{/PDF_MISSING}}
{{#NO_ATTACHMENT}}<p>Il fax è nella tua casella Faxbridge.</p>{{/NO_ATTACHMENT}}
{{#HAS_THUMBNAIL}}<p><img src="cid:{{THUMBNAIL_CID}}" alt="Prima pagina del fax" style="border: 1px solid #ccc; max-width: 100%;"></p>{{/HAS_THUMBNAIL}}
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.</p>
</body></html>
