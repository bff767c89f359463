fn main() {
    task_link::emit()
}
