Your fax is in the outgoing queue.

To:          {{RECIPIENT}}{{#RECIPIENT_NAMED}} ({{RECIPIENT_NAME}}){{/RECIPIENT_NAMED}}
Subject:     {{SUBJECT}}
Pages:       {{PAGE_COUNT}}
{{#SCHEDULED}}Sent after:  {{SCHEDULED_AT}}
{{/SCHEDULED}}Reference:   {{REFERENCE}}

You will get another mail when it has been sent or has finally failed.

-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.
