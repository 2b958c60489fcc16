A fax call to your number {{CALLED}} ended without a page.

From:       {{CALLER}}
To number:  {{CALLED}}
When:       {{RECEIVED_AT}}
Why:        {{ERROR_CODE}}

The caller may try again. You get this notice because the fax administrator turned on
notices of failed incoming calls.

-- 
Faxbridge{{#COMPANY}}, {{COMPANY_NAME}}{{/COMPANY}}. This message was sent automatically; replies are not read.
