{{#PARTIAL}}Your fax was only partially sent: {{PAGES_SENT}} of {{PAGE_COUNT}} pages reached the recipient.{{/PARTIAL}}{{#FAILED}}Your fax could not be sent.{{/FAILED}}

Why:         {{ERROR_TEXT}} ({{ERROR_CODE}})
To:          {{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}
Subject:     {{SUBJECT}}
Pages sent:  {{PAGES_SENT}} of {{PAGE_COUNT}}
Reference:   {{REFERENCE}}

Attempts:
{{#ATTEMPTS}}  {{NUMBER}}. {{STARTED_AT}}: {{RESULT}}
{{/ATTEMPTS}}
-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.
