Faxbridge richiede la tua attenzione.

Cosa:       {{ALERT_MESSAGE}}
Codice:     {{ALERT_CODE}}
Quando:     {{DATE}}
{{#HAS_REFERENCE}}Fax:        {{REFERENCE}}
{{/HAS_REFERENCE}}
Gli avvisi con la stessa causa vengono inviati al massimo una volta ogni {{ALERT_INTERVAL}} minuti.

-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.
