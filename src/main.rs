use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    andon::cli::run(andon::cli::Cli::parse()).await
}
