"""Containers: per-customer product lists (cart, favourites, wishlist, …) fed by the API and the tracker."""
