"""Polls: questions with visibility conditions, a personal link per customer, one answer each, reports."""
