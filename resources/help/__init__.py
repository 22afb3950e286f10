"""Short explanations of each panel's concept and formula, shown by its "?" button."""
