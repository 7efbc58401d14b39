"""The default: linear regression on within-area, within-year demeaned data (two-way fixed effects)."""

from sklearn.linear_model import LinearRegression

NAME = "linear_fe"
DESCRIPTION = "Linear two-way fixed-effects regression (the default association model), on demeaned data."


def make_estimator():
    return LinearRegression(fit_intercept=False)
