"""Cost codes themselves: vocabulary, rules, the one writer of their state, intake."""
