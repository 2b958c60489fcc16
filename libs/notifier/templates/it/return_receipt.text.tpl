Il tuo fax è stato inviato.

A:               {{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}
Oggetto:         {{SUBJECT}}
Pagine inviate:  {{PAGES_SENT}} di {{PAGE_COUNT}}
Completato:      {{COMPLETED_AT}}
Riferimento:     {{REFERENCE}}

Tentativi:
{{#ATTEMPTS}}  {{NUMBER}}. {{STARTED_AT}}: {{RESULT}}
{{/ATTEMPTS}}
-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.
