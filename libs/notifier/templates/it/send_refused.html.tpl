<!DOCTYPE html>
<html lang="it"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Il tuo fax non è stato accettato</h2>
<p>Non è stato inviato nulla.</p>
<p><strong>Motivo:</strong> {{ERROR_TEXT}} <code>{{ERROR_CODE}}</code></p>
<p><strong>Oggetto:</strong> {{SUBJECT}}{{#HAS_REFERENCE}}<br><strong>Riferimento:</strong> {{REFERENCE}}{{/HAS_REFERENCE}}</p>
<p>Se pensi di dover poter inviare fax, chiedi all'amministratore del fax.</p>
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.</p>
</body></html>
