//! Trial agreements: what they are (`model`), their storage (`store`) and the milestones the
//! reports count. The lifecycle they follow is `rules::lifecycle`; what an action does across
//! the parts (a contract on conversion, a policy bound at the last signature, mail) is
//! `app::agreements`.

pub mod milestones;
pub mod model;
pub mod store;
