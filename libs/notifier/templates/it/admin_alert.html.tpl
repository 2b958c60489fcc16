<!DOCTYPE html>
<html lang="it"><head><meta charset="utf-8"><title>{{SUBJECT_LINE}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 18px;">Faxbridge richiede la tua attenzione</h2>
<p>{{ALERT_MESSAGE}}</p>
<p><strong>Codice:</strong> <code>{{ALERT_CODE}}</code><br><strong>Quando:</strong> {{DATE}}{{#HAS_REFERENCE}}<br><strong>Fax:</strong> {{REFERENCE}}{{/HAS_REFERENCE}}</p>
<p>Gli avvisi con la stessa causa vengono inviati al massimo una volta ogni {{ALERT_INTERVAL}} minuti.</p>
<p style="color: #777; font-size: 12px;">Faxbridge{{#COMPANY}} &middot; {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.</p>
</body></html>
