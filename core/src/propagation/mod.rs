//! W3C Trace Context Level 2 and W3C Baggage (being written).
