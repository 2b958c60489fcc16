Il tuo fax non è stato accettato e non è stato inviato nulla.

Motivo:       {{ERROR_TEXT}} ({{ERROR_CODE}})
Oggetto:      {{SUBJECT}}
{{#HAS_REFERENCE}}Riferimento:  {{REFERENCE}}
{{/HAS_REFERENCE}}
Se pensi di dover poter inviare fax, chiedi all'amministratore del fax.

-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.
