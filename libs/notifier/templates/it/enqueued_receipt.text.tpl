Il tuo fax è nella coda di invio.

A:               {{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}
Oggetto:         {{SUBJECT}}
Pagine:          {{PAGE_COUNT}}
{{#SCHEDULED}}Inviato dopo:    {{SCHEDULED_AT}}
{{/SCHEDULED}}Riferimento:     {{REFERENCE}}

Riceverai un altro messaggio quando sarà stato inviato o definitivamente non inviato.

-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.
