Fax call from {{CALLER}} to {{CALLED}} brought no pages
