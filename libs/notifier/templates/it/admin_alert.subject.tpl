Avviso Faxbridge: {{ALERT_CODE}}
