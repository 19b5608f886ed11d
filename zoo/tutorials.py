"""The five tutorials zoo is built from, listed once; every model card points into this list.

Their texts (Chinese) are kept beside the project as `shared/seeds/<key>_*.txt`; the line
numbers a model cites are lines of that copy. Where the copy names no public address, the URL
is empty rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tutorial:
    key: str
    title: str
    english: str
    url: str

    def cite(self, section: str) -> str:
        """`tutorial KEY 'TITLE' (ENGLISH), SECTION; URL`, for docstrings, cards and `zoo list --json`."""
        where = self.url or "no public URL recorded in the copy"
        return f"tutorial {self.key} '{self.title}' ({self.english}), {section}; {where}"


TUTORIALS: dict[str, Tutorial] = {
    t.key: t
    for t in (
        Tutorial("000", "Pytorch基础知识", "PyTorch basics: tensors, autograd, LeNet", ""),
        Tutorial(
            "001",
            "卷积神经网络学习:使用pytorch反向传播",
            "learning CNNs: backpropagation with PyTorch (the two-layer network)",
            "",
        ),
        Tutorial(
            "002",
            "pytorch实战教学(一篇管够)",
            "PyTorch in practice: regression to RNNs, from the PyTorch Zero to All lectures",
            "https://tianjuewudi.gitee.io/2021/05/13/pytorch-jiao-xue-ji-shi-li/",
        ),
        Tutorial("003", "深度学习—3.Pytorch基础", "deep learning 3: PyTorch basics", "https://javaforall.cn/114571.html"),
        Tutorial(
            "004",
            "Python 的法宝函数",
            "Python's magic functions: Dataset, TensorBoard, transforms, CIFAR-10 with nn.Sequential",
            "",
        ),
    )
}


def cite(key: str, section: str) -> str:
    """The citation of tutorial `key`; an unknown key is a programming error, not a user's."""
    return TUTORIALS[key].cite(section)
