//! Incident reports (issue 18): a .docx built from a room's record, with its
//! timeline, participants, figures and evidence; the Summary and Resolution
//! process optionally written by an on-premise model.

pub mod digest;
pub mod docx;
pub mod images;
pub mod llm;
pub mod model;
