"""Predictive scoring: a logistic regression of conversion, explained."""
