fn main() {
    let a = rhetor::Analyzer::load_default().unwrap();
    println!("{}", a.model_name());
}
