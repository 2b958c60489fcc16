Hai ricevuto un fax sul numero {{CALLED}}.

Da:                 {{CALLER}}
Stazione remota:    {{REMOTE_STATION_ID}}
Al numero:          {{CALLED}}
Pagine:             {{PAGES}}
Durata:             {{DURATION}}
Ricevuto:           {{RECEIVED_AT}}
Numero di riferimento: {{REFERENCE}}
{{#HAS_ATTACHMENT}}
Il fax è allegato in formato {{FORMAT}} ({{ATTACHMENT_NAME}}).
{{/HAS_ATTACHMENT}}{{#PDF_MISSING}}
Non è stato possibile creare il PDF di questo fax ({{PDF_ERROR}}): è allegato in formato TIFF.
{{/PDF_MISSING}}{{#NO_ATTACHMENT}}
Il fax è nella tua casella Faxbridge.
{{/NO_ATTACHMENT}}
-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.
