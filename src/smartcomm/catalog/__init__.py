"""The product catalogue: classifiers, categories, products and stores."""
