"""Online theory exams (机考): the question bank, paper rules, exam sessions and attempts, graded into results."""
