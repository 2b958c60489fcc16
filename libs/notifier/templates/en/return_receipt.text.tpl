Your fax was sent.

To:          {{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}
Subject:     {{SUBJECT}}
Pages sent:  {{PAGES_SENT}} of {{PAGE_COUNT}}
Completed:   {{COMPLETED_AT}}
Reference:   {{REFERENCE}}

Attempts:
{{#ATTEMPTS}}  {{NUMBER}}. {{STARTED_AT}}: {{RESULT}}
{{/ATTEMPTS}}
-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.
