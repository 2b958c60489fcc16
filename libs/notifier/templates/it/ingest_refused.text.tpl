Non è stato possibile trasformare il tuo messaggio in un fax e non è stato inviato nulla.

Motivo:       {{ERROR_TEXT}} ({{ERROR_CODE}})
Oggetto:      {{SUBJECT}}
{{#HAS_REFERENCE}}Riferimento:  {{REFERENCE}}
{{/HAS_REFERENCE}}
-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.
