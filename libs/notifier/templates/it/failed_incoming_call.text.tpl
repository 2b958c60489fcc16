Una chiamata fax al tuo numero {{CALLED}} si è conclusa senza pagine.

Da:          {{CALLER}}
Al numero:   {{CALLED}}
Quando:      {{RECEIVED_AT}}
Motivo:      {{ERROR_CODE}}

Il mittente potrebbe riprovare. Ricevi questo avviso perché l'amministratore del fax ha
attivato gli avvisi delle chiamate in arrivo non riuscite.

-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. Messaggio inviato automaticamente; le risposte non vengono lette.
