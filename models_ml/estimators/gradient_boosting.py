"""An alternative: gradient boosting, which can pick up non-linear and interaction patterns."""

from sklearn.ensemble import GradientBoostingRegressor

NAME = "gradient_boosting"
DESCRIPTION = "Gradient boosting (shallow trees) on demeaned data; factor importance by permutation."


def make_estimator():
    # single-threaded and small: the panels have hundreds of rows, not millions
    return GradientBoostingRegressor(n_estimators=60, max_depth=2, learning_rate=0.1, subsample=0.8, random_state=0)
