"""RFM analysis: recency, frequency and monetary scores of the customers who bought in the period."""
