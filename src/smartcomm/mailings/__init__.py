"""Mass mailings over e-mail, SMS (with the Viber → SMS cascade) and push."""
