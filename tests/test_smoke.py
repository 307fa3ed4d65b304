import pytest

from tests.factories import ResultFactory, WorkerFactory


@pytest.mark.django_db
def test_a_worker_sorts_by_pinyin_of_the_name():
    worker = WorkerFactory(name="张伟")
    assert worker.name_pinyin == "zhangwei"


@pytest.mark.django_db
def test_a_result_is_saved_with_the_full_marks_of_its_assessment():
    result = ResultFactory()
    assert result.full_marks == result.assessment.full_marks
