"""The company's QuickBooks connection state: one writer, one view, plain words."""
