"""An alternative: gradient boosting, which can pick up non-linear and interaction patterns."""

from sklearn.ensemble import HistGradientBoostingRegressor

NAME = "gradient_boosting"
DESCRIPTION = "Histogram gradient boosting on demeaned data; factor importance by permutation."


def make_estimator():
    return HistGradientBoostingRegressor(max_iter=40, max_depth=3, max_leaf_nodes=8, learning_rate=0.15,
                                         early_stopping=False, random_state=0)
