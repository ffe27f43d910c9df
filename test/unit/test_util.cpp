// util tests: owned by the lead
