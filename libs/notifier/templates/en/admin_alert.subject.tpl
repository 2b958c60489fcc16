Faxbridge alert: {{ALERT_CODE}}
