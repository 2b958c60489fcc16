{{#PARTIAL}}Il tuo fax è stato inviato solo in parte: {{PAGES_SENT}} pagine su {{PAGE_COUNT}} sono arrivate al destinatario.{{/PARTIAL}}{{#FAILED}}Non è stato possibile inviare il tuo fax.{{/FAILED}}

Motivo:          {{ERROR_TEXT}} ({{ERROR_CODE}})
A:               {{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}
Oggetto:         {{SUBJECT}}
Pagine inviate:  {{PAGES_SENT}} di {{PAGE_COUNT}}
Riferimento:     {{REFERENCE}}

Tentativi:
{{#ATTEMPTS}}  {{NUMBER}}. {{STARTED_AT}}: {{RESULT}}
{{/ATTEMPTS}}
-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.
