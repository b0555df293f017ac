"""Assignment: who gets a lead. Ordered rules in the rule language (first match wins),
strategies, eligibility (active, in office, within working hours, under capacity), manual
and automatic assignment with a dry run, and background reassignment."""
