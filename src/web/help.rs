//! The help page: the journey from evidence to confirmed progress, in plain words.
//! Open to everyone; a signed-in visitor also sees who they are signed in as, after the
//! same check of their session as every other page makes.
use askama::Template;
use askama_web::WebTemplate;

use super::auth::MaybeUser;
use crate::db::users::User;

#[derive(Template, WebTemplate)]
#[template(path = "pages/help.html")]
pub(crate) struct HelpPage {
    user: Option<User>,
}

pub async fn page(MaybeUser(user): MaybeUser) -> HelpPage {
    HelpPage { user }
}
