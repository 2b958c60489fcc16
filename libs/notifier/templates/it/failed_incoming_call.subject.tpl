La chiamata fax da {{CALLER}} a {{CALLED}} non ha portato pagine
