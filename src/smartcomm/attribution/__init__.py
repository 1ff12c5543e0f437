"""Receipt attribution: the purchases that followed a communication ("assisted sales")."""
