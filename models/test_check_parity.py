"""Tests of the parity harness's own comparison logic (no model needed).

    python -m unittest models.test_check_parity
"""

import unittest

import numpy as np

from models.check_parity import Result, pixel_boxes, row_cosines


class RowCosinesTest(unittest.TestCase):
    def test_identical_rows_give_one(self):
        rows = np.random.default_rng(0).normal(size=(4, 16))
        np.testing.assert_allclose(row_cosines(rows, rows), 1.0, atol=1e-12)

    def test_scale_does_not_matter(self):
        rows = np.random.default_rng(1).normal(size=(3, 8))
        np.testing.assert_allclose(row_cosines(rows * 7.5, rows), 1.0, atol=1e-12)

    def test_each_row_is_compared_alone(self):
        actual = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        expected = np.array([[1.0, 0.0], [1.0, 0.0], [-1.0, -1.0]])
        np.testing.assert_allclose(row_cosines(actual, expected), [1.0, 0.0, -1.0], atol=1e-12)

    def test_single_vector_gives_one_cosine(self):
        self.assertEqual(row_cosines([3.0, 4.0], [3.0, 4.0]).shape, (1,))

    def test_zero_and_nan_rows_fail(self):
        actual = np.array([[0.0, 0.0], [np.nan, 1.0]])
        expected = np.array([[1.0, 0.0], [0.0, 1.0]])
        np.testing.assert_array_equal(row_cosines(actual, expected), [-1.0, -1.0])

    def test_shape_mismatch_raises(self):
        with self.assertRaises(ValueError):
            row_cosines(np.zeros((2, 3)), np.zeros((3, 2)))


class ResultTest(unittest.TestCase):
    def test_threshold_applies_to_minimum(self):
        result = Result("tensors", "pooled image", 0.9999)
        result.add([0.99999, 0.99995], "a.png")
        self.assertTrue(result.passed)
        result.add(0.9998, "b.png")
        self.assertFalse(result.passed)
        summary = result.summary()
        self.assertEqual(summary["worst"], "b.png")
        self.assertEqual(summary["count"], 3)
        self.assertAlmostEqual(summary["min_cosine"], 0.9998)

    def test_empty_result_fails(self):
        self.assertFalse(Result("padding", "region features", 0.99999).passed)


class PixelBoxesTest(unittest.TestCase):
    def test_boxes_are_inside_and_not_empty(self):
        for width, height in ((14, 25), (512, 512), (1000, 60)):
            for x0, y0, x1, y1 in pixel_boxes(width, height):
                self.assertTrue(0 <= x0 < x1 <= width, (width, height, x0, x1))
                self.assertTrue(0 <= y0 < y1 <= height, (width, height, y0, y1))

    def test_first_box_is_whole_photo(self):
        self.assertEqual(pixel_boxes(451, 300)[0], [0.0, 0.0, 451.0, 300.0])


if __name__ == "__main__":
    unittest.main()
