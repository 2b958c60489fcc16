<!DOCTYPE html>
<html lang="it"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Una chiamata fax a {{CALLED}} non ha portato pagine</h2>
<p><strong>Da:</strong> {{CALLER}}<br><strong>Quando:</strong> {{RECEIVED_AT}}<br><strong>Motivo:</strong> <code>{{ERROR_CODE}}</code></p>
<p>Il mittente potrebbe riprovare. Ricevi questo avviso perché l'amministratore del fax ha attivato gli avvisi delle chiamate in arrivo non riuscite.</p>
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.</p>
</body></html>
