"""`make demo`: a quarter played end to end, and the simulated units that tests and the bench use too."""
